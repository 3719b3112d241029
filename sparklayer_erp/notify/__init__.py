"""Alert delivery: e-mail over SMTP and a Slack/Teams-compatible JSON webhook, per owner team.

What to say and when is decided in ``domain.alerting`` (pure); ``delivery.py`` only sends it, to the
addresses and webhooks configured per team (``ALERT_*`` variables, ``AlertsResource`` in ``resources.py``).
"""
