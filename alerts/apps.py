from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Alert rules, the outbox of their decisions (deliveries) and the delivery worker."""

    name = "alerts"
    verbose_name = "Alerts"
