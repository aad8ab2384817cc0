"""Celery tasks of the portal: thin wrappers around its services."""
from celery import shared_task

from . import notifications


@shared_task(name=notifications.NOTICE_TASK, ignore_result=True)
def notice_deliver(**notice) -> str:
    """Mail one notice (throttled per store and cause); the service logs a mail server's error."""
    return notifications.notice_deliver(**notice)


@shared_task(name=notifications.NOTICE_FLUSH_TASK, ignore_result=True)
def notice_flush() -> dict:
    """Every few minutes (beat): mail the held-back notices whose hour is over and after which none came."""
    return notifications.notice_flush()
