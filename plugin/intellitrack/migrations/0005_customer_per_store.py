"""Customers belong to the store whose orders created them: the account-number match of the order import
is scoped per store, so two stores feeding one division never share a customer by accident.

Existing customers take the store of their picking orders. One whose orders came from two or more stores
(shared by the old division-wide match) stays with the first store and is copied for each other store,
with the ship-to addresses those orders use; those orders move to the copy. Customers without store
orders (entered in IntelliTrack) keep no store."""
from collections import defaultdict

import django.db.models.deletion
from django.db import migrations, models

ADDRESS_FIELDS = ["address1", "address2", "city", "state", "postal_code", "country"]
CUSTOMER_FIELDS = ["division_id", "name", "account_number", "email", "phone", *ADDRESS_FIELDS]
SHIP_TO_FIELDS = ["name", "company", "phone", "email", *ADDRESS_FIELDS]


def customers_to_stores(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Foreign keys checked at once, so the unique indexes below can be built in this transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    Customer = apps.get_model("intellitrack", "Customer")
    ShipTo = apps.get_model("intellitrack", "ShipTo")
    PickingOrder = apps.get_model("intellitrack", "PickingOrder")

    stores_of = defaultdict(set)
    for customer_id, store_id in (
        PickingOrder.objects.filter(source_store__isnull=False)
        .values_list("customer_id", "source_store_id").distinct()
    ):
        stores_of[customer_id].add(store_id)
    if not stores_of:
        return
    customers = Customer.objects.in_bulk(list(stores_of))
    for customer_id, store_ids in stores_of.items():
        customer = customers[customer_id]
        first, *others = sorted(store_ids)
        customer.source_store_id = first
        for store_id in others:
            copy = Customer.objects.create(
                source_store_id=store_id, **{field: getattr(customer, field) for field in CUSTOMER_FIELDS}
            )
            orders = PickingOrder.objects.filter(customer_id=customer_id, source_store_id=store_id)
            for ship_to_id in set(orders.exclude(ship_to__isnull=True).values_list("ship_to_id", flat=True)):
                ship_to = ShipTo.objects.get(pk=ship_to_id)
                moved = ShipTo.objects.create(
                    customer_id=copy.pk, **{field: getattr(ship_to, field) for field in SHIP_TO_FIELDS}
                )
                orders.filter(ship_to_id=ship_to_id).update(ship_to_id=moved.pk)
            orders.update(customer_id=copy.pk)
    Customer.objects.bulk_update(list(customers.values()), ["source_store"], batch_size=1000)


def customers_back_to_divisions(apps, schema_editor):
    """Undo: only possible while no two stores' customers of one division share an account number."""
    apps.get_model("intellitrack", "Customer").objects.update(source_store=None)


class Migration(migrations.Migration):
    dependencies = [
        ("intellitrack", "0004_item_number_255_unmanaged_lines"),
        ("configuration", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="source_store",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="customers",
                to="configuration.storeconnection",
            ),
        ),
        migrations.RemoveConstraint(model_name="customer", name="customer_account_unique_per_division"),
        migrations.RunPython(customers_to_stores, customers_back_to_divisions),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("account_number", ""), _negated=True) & models.Q(("source_store__isnull", True)),
                fields=("division", "account_number"),
                name="customer_account_unique_per_division",
            ),
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("account_number", ""), _negated=True) & models.Q(("source_store__isnull", False)),
                fields=("division", "source_store", "account_number"),
                name="customer_account_unique_per_store",
            ),
        ),
    ]
