"""A store's BigCommerce inventory locations, each mapped to an IntelliTrack site or location (audited)."""
import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('configuration', '0005_notifications'),
        ('intellitrack', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalStoreInventoryLocation',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('store_location_id', models.PositiveIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(2147483647)], verbose_name='BigCommerce location id')),
                ('code', models.CharField(blank=True, max_length=100)),
                ('label', models.CharField(blank=True, max_length=255)),
                ('enabled', models.BooleanField(default=True)),
                ('refreshed_at', models.DateTimeField(blank=True, null=True)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('location', models.ForeignKey(blank=True, db_constraint=False, help_text='Blank: the whole site.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='intellitrack.location', verbose_name='IntelliTrack location')),
                ('site', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='intellitrack.site', verbose_name='IntelliTrack site')),
                ('store', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='configuration.storeconnection')),
            ],
            options={
                'verbose_name': 'historical store inventory location',
                'verbose_name_plural': 'historical store inventory locations',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='StoreInventoryLocation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('store_location_id', models.PositiveIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(2147483647)], verbose_name='BigCommerce location id')),
                ('code', models.CharField(blank=True, max_length=100)),
                ('label', models.CharField(blank=True, max_length=255)),
                ('enabled', models.BooleanField(default=True)),
                ('refreshed_at', models.DateTimeField(blank=True, null=True)),
                ('location', models.ForeignKey(blank=True, help_text='Blank: the whole site.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='intellitrack.location', verbose_name='IntelliTrack location')),
                ('site', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='intellitrack.site', verbose_name='IntelliTrack site')),
                ('store', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inventory_locations', to='configuration.storeconnection')),
            ],
            options={
                'ordering': ['store_id', 'store_location_id'],
                'constraints': [models.UniqueConstraint(fields=('store', 'store_location_id'), name='store_inventory_location_unique')],
            },
        ),
    ]
