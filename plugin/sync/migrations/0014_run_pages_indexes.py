"""Indexes for the run pages, outside the model state (expression indexes in plain SQL):
- a run's items whose quantity changed: (run, changed, id), so the End of Day drift table's "changed only"
  filter pages through a few dozen changed rows among a million by id without reading the others. An
  expression (not a partial index) because ANALYZE then keeps statistics of it: the planner knows how few
  rows changed, and does not walk the primary key hoping to meet them early;
- the steps of a run (options.parent_run), which the run list nests under their parent."""
from django.db import migrations

CHANGED = ("CREATE INDEX IF NOT EXISTS syncrunitem_run_changed ON sync_syncrunitem "
           "(run_id, (quantity_after <> quantity_before), id)")
PARENT = {
    "postgresql": "CREATE INDEX IF NOT EXISTS syncrun_parent_run ON sync_syncrun ((options -> 'parent_run')) "
                  "WHERE options ? 'parent_run'",
    "sqlite": "CREATE INDEX IF NOT EXISTS syncrun_parent_run ON sync_syncrun (JSON_EXTRACT(options, '$.parent_run')) "
              "WHERE JSON_TYPE(options, '$.parent_run') IS NOT NULL",
}


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in PARENT:
        return
    schema_editor.execute(CHANGED)
    schema_editor.execute(PARENT[vendor])


def drop(apps, schema_editor):
    if schema_editor.connection.vendor in PARENT:
        schema_editor.execute("DROP INDEX IF EXISTS syncrunitem_run_changed")
        schema_editor.execute("DROP INDEX IF EXISTS syncrun_parent_run")


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0013_store_locations"),
    ]

    operations = [migrations.RunPython(create, drop)]
