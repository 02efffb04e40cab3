"""How much text people may send, in one place: the models, the forms, the services and the
Open311 schema all read these. (Photo limits are settings, PHOTO_MAX_*, because an operator
may need to change them.)"""

# A description, a staff reply or note, a forward note, an answer to a text question.
MAX_TEXT = 4000
# The web form asks for a sentence; the API (where apps may send only a category) does not.
MIN_WEB_DESCRIPTION = 10
# Moderation reasons (a report's or a photo's): refused beyond this, never cut.
MAX_REASON = 255
