"""The public reports counted by week on PostgreSQL too (insights_public_week, kept by the
summaries' triggers beside the hours), and the page position's function that sums them
(see reports/insights/rollups.py and reports/api/positions.py). The summaries are recounted
from the reports already there, the weeks with them. SQLite has kept its weeks since 0005."""

from django.conf import settings
from django.db import migrations


# The function as 0004 installed it, for the way back: it sums the hours a week at a time.
# A copy frozen here, not built from positions.py, whose function reads the weeks that the
# way back drops.
HOURS_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION open311_page_position(
    p_start timestamptz, p_end timestamptz, p_now timestamptz, p_offset bigint
) RETURNS TABLE (requested timestamptz, pk bigint)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
    top bigint := floor(extract(epoch FROM p_end) / 3600);
    last bigint := floor(extract(epoch FROM p_start) / 3600);
    latest timestamptz;
    after_end bigint;
    late_hours bigint[] := '{}';
    late_counts bigint[] := '{}';
    high bigint;
    low bigint;
    counted record;
    upto bigint := 0;
    n bigint;
    at int;
BEGIN
    SELECT count(*) INTO after_end FROM reports_servicerequest r
    WHERE NOT r.hidden AND r.requested_datetime > p_end
    AND r.requested_datetime < to_timestamp((top + 1) * 3600);
    SELECT max(r.published_at) INTO latest FROM reports_servicerequest r;
    IF latest > p_now THEN
        WITH late AS MATERIALIZED (
            SELECT r.requested_datetime, r.hidden FROM reports_servicerequest r
            WHERE r.published_at > p_now AND r.published_at <= latest
        )
        SELECT coalesce(array_agg(g.hour), '{}'), coalesce(array_agg(g.reports), '{}')
        INTO late_hours, late_counts FROM (
            SELECT floor(extract(epoch FROM requested_datetime) / 3600)::bigint AS hour, count(*) AS reports FROM late l WHERE NOT l.hidden
            AND l.requested_datetime >= p_start AND l.requested_datetime <= p_end GROUP BY 1
        ) AS g;
    END IF;
    high := top;
    WHILE high >= last LOOP
        low := greatest(high - 168 + 1, last);
        SELECT coalesce(sum(h.n), 0) INTO n FROM insights_public_hour h
        WHERE h.hour >= low AND h.hour <= high;
        IF high = top THEN
            n := n - after_end;
        END IF;
        IF cardinality(late_hours) > 0 THEN
            n := n - (SELECT coalesce(sum(u.reports), 0)
                      FROM unnest(late_hours, late_counts) AS u (hour, reports)
                      WHERE u.hour >= low AND u.hour <= high);
        END IF;
        IF upto + n > p_offset THEN
            EXIT;
        END IF;
        upto := upto + n;
        high := low - 1;
    END LOOP;
    FOR counted IN
        SELECT h.hour, h.n FROM insights_public_hour h
        WHERE h.hour >= low AND h.hour <= high ORDER BY h.hour DESC
    LOOP
        n := counted.n;
        IF counted.hour = top THEN
            n := n - after_end;
        END IF;
        at := array_position(late_hours, counted.hour);
        IF at IS NOT NULL THEN
            n := n - late_counts[at];
        END IF;
        IF upto + n > p_offset THEN
            IF p_offset = upto THEN
                RETURN QUERY SELECT to_timestamp((counted.hour + 1) * 3600), 0::bigint;
                RETURN;
            END IF;
            RETURN QUERY SELECT r.requested_datetime, r.id FROM reports_servicerequest r
                WHERE NOT r.hidden AND r.published_at <= p_now
                AND r.requested_datetime >= p_start AND r.requested_datetime <= p_end
                AND r.requested_datetime >= to_timestamp(counted.hour * 3600)
                AND r.requested_datetime < to_timestamp((counted.hour + 1) * 3600)
                ORDER BY r.requested_datetime DESC, r.id DESC OFFSET p_offset - upto - 1 LIMIT 1;
            RETURN;
        END IF;
        upto := upto + n;
    END LOOP;
END
$fn$
"""


def install(apps, schema_editor) -> None:
    from reports.api import positions
    from reports.insights import rollups

    if schema_editor.connection.vendor == "postgresql":
        rollups.install()
        schema_editor.execute(positions.FUNCTION_SQL)


def uninstall(apps, schema_editor) -> None:
    """The function that sums the hours a week at a time, as 0004 installed it, the
    triggers of 0003 again (hours only), and the weeks gone."""
    from reports.insights import rollups

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(HOURS_FUNCTION_SQL)
        for statement in rollups.trigger_functions_sql(settings.TIME_ZONE, ("hour",)):
            cursor.execute(statement)


class Migration(migrations.Migration):
    # Not one transaction: install() builds indexes CONCURRENTLY where they are missing.
    atomic = False

    dependencies = [("insights", "0005_sqlite_hours")]

    operations = [migrations.RunPython(install, uninstall)]
