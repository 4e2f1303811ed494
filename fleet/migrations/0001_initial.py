import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('bookings', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='DriverProfile',
            fields=[
                ('user', models.OneToOneField(limit_choices_to={'role': 'driver'}, on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='driver_profile', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('vehicle_make', models.CharField(max_length=40, verbose_name='make')),
                ('vehicle_model', models.CharField(max_length=40, verbose_name='model')),
                ('plate', models.CharField(help_text='Stored in capitals without spaces, e.g. WW1001.', max_length=12, unique=True, verbose_name='license plate')),
                ('pet_capacity', models.PositiveSmallIntegerField(default=2, help_text='How many pets (crates) the vehicle carries at a time.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(12)], verbose_name='pets at once')),
                ('max_crate_size', models.PositiveSmallIntegerField(choices=[(1, 'Small (up to 25 lb)'), (2, 'Medium (up to 50 lb)'), (3, 'Large (up to 90 lb)'), (4, 'Extra large (over 90 lb)')], default=3, verbose_name='largest crate')),
                ('pet_types', models.JSONField(default=list, help_text='Which kinds of pet the driver and vehicle take.', verbose_name='pet types')),
                ('on_duty', models.BooleanField(db_index=True, default=False)),
                ('last_lat', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True)),
                ('last_lng', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True)),
                ('last_accuracy_m', models.PositiveIntegerField(blank=True, null=True)),
                ('position_at', models.DateTimeField(blank=True, null=True)),
                ('invite_requested_at', models.DateTimeField(blank=True, null=True)),
                ('invite_sent_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('position_ride', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='bookings.ride')),
            ],
            options={
                'ordering': ['user__name', 'user_id'],
            },
        ),
    ]
