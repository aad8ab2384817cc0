"""Celery tasks of the portal: thin wrappers around its services."""
from celery import shared_task

from . import notifications


@shared_task(name=notifications.NOTICE_TASK, ignore_result=True)
def notice_deliver(**notice) -> str:
    """Mail one notice (throttled per store and cause); the service logs a mail server's error."""
    return notifications.notice_deliver(**notice)
