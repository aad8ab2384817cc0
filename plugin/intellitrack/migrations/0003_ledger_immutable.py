"""The inventory ledger is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE of its rows.
The one change allowed is the user column going to NULL when that user is deleted (ON DELETE SET NULL)."""
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION intellitrack_ledger_append_only() RETURNS trigger AS $$
DECLARE
    changed intellitrack_inventorytransaction;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        changed := NEW;
        changed.user_id := OLD.user_id;
        IF NEW.user_id IS NULL AND changed IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'inventory ledger rows cannot be changed or deleted (row ' || OLD.id || ')',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER intellitrack_ledger_append_only
    BEFORE UPDATE OR DELETE ON intellitrack_inventorytransaction
    FOR EACH ROW EXECUTE FUNCTION intellitrack_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS intellitrack_ledger_append_only ON intellitrack_inventorytransaction;
DROP FUNCTION IF EXISTS intellitrack_ledger_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("intellitrack", "0002_items_inventory_orders")]

    operations = [migrations.RunPython(create, drop)]
