"""Routing: every task name is registered by its service's worker and routed to that service's queue."""
import pytest

from shared import events, tasks
from shared.celery_app import make_celery
from shared.config import load_settings


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    from services.ingest.worker import create_worker as ingest
    from services.notification.worker import create_worker as notification
    from services.rendering.worker import create_worker as rendering
    from services.translation_status.worker import create_worker as translation_status

    settings = load_settings({"DATA_DIR": str(tmp_path_factory.mktemp("data")), "API_TOKEN": "t"})
    return {"ingest": ingest(settings), "translation_status": translation_status(settings),
            "rendering": rendering(settings), "notification": notification(settings)}


def test_every_task_registered_by_exactly_its_queue_owner(workers):
    for name, queue in tasks.TASK_QUEUES.items():
        owners = [svc for svc, app in workers.items() if name in app.tasks]
        assert owners == [queue], f"{name} is registered by {owners}, expected [{queue}]"


def test_workers_register_nothing_unrouted(workers):
    for svc, app in workers.items():
        ours = {n for n in app.tasks if not n.startswith("celery.")}
        assert ours <= set(tasks.TASK_QUEUES), ours - set(tasks.TASK_QUEUES)


def test_routes_send_each_task_to_its_queue():
    app = make_celery("ingest", load_settings({"DATA_DIR": "/tmp/unused", "API_TOKEN": "t", "SECRET_KEY": "s",
                                               "INBOUND_WEBHOOK_SECRET": "whsec_x"}))
    for name, queue in tasks.TASK_QUEUES.items():
        route = app.amqp.router.route({}, name)
        assert route["queue"].name == queue, name


def test_every_event_type_has_subscribers_that_exist():
    assert set(tasks.EVENT_SUBSCRIBERS) == set(events.EVENT_CLASSES)
    for event_type, subscribers in tasks.EVENT_SUBSCRIBERS.items():
        assert subscribers, event_type
        assert all(s in tasks.TASK_QUEUES for s in subscribers), event_type


def test_publish_flow_routing():
    assert tasks.EVENT_SUBSCRIBERS[events.ARTICLE_PUBLISH_REQUESTED][0] == tasks.RENDER_ARTICLE
    assert tasks.EVENT_SUBSCRIBERS[events.ARTICLE_RENDERED] == (tasks.RECORD_RENDER_RESULT,)
    assert set(tasks.EVENT_SUBSCRIBERS[events.ARTICLE_PUBLISHED]) == {tasks.RECORD_ARTICLE_STATUS, tasks.NOTIFY_SUBSCRIBERS}


def test_celery_settings_are_safe():
    conf = make_celery("rendering", load_settings({"DATA_DIR": "/tmp/unused", "API_TOKEN": "t", "SECRET_KEY": "s",
                                                   "INBOUND_WEBHOOK_SECRET": "whsec_x"})).conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 1800
    assert conf.task_default_queue == "rendering"
