/* Loaded in <head>, before the page paints: CSS can tell that scripts run. A file, not an
 * inline script, because the Content-Security-Policy allows no inline script. */
document.documentElement.classList.add("js");
