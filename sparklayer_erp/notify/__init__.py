"""Alert delivery through Apprise (e-mail with TLS, Slack, Teams Workflows, webhooks, …), per owner team.

What to say, about what, and where it links is decided in ``domain.alerting`` (pure); ``delivery.py`` only
sends it to each team's Apprise URLs (``ALERT_URLS_<TEAM>``, ``AlertsResource`` in ``resources.py``) and
translates the deprecated ``ALERT_SMTP_*``/``ALERT_EMAIL_*``/``ALERT_WEBHOOK_*`` variables for one release.
"""
