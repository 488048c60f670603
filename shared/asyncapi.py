"""The AsyncAPI 3.0 document of the events: the other half of the interface, beside OpenAPI.

It is generated from the published language (``shared.contracts``) and the locality registry, so
it cannot drift from what the services send: every registered event type is a message with its
JSON Schema and version, every locality topic and dead-letter topic a channel, and each service's
operations say which types it publishes (those of its own prefix) and which it consumes.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection, Mapping
from typing import Any

import shared.contracts  # noqa: F401  (registers every event type)
from shared.envelope import EVENT_TYPES, Event
from shared.localities import LocalityRegistry

ASYNCAPI_VERSION = "3.0.0"

CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in the Kafka protocol binding's binary content mode: the "
    "record value is the event's data, the attributes travel as headers.",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique per event; the same id on several topics is one event."},
        "ce_source": {"type": "string", "description": "The publishing service, e.g. /tongban/routing."},
        "ce_type": {"type": "string", "description": "cn.tongban.<service>.<aggregate>.<what>.v<version>"},
        "ce_time": {"type": "string", "format": "date-time", "description": "RFC 3339 with an offset."},
        "ce_subject": {"type": "string", "description": "The aggregate's id; also the record key."},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C Trace Context of the request that caused it."},
    },
}

DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "A record a consumer group could not read, as it was, plus why and where it came from.",
    "required": ["tongban_dlt_reason", "tongban_dlt_group", "tongban_dlt_topic"],
    "properties": {
        name: {"type": "string"}
        for name in ("tongban_dlt_reason", "tongban_dlt_group", "tongban_dlt_topic", "tongban_dlt_partition",
                     "tongban_dlt_offset")
    },
}


def publisher_of(ce_type: str) -> str:
    """The service that publishes ``ce_type`` (the second part of ``cn.tongban.<service>...``)."""
    return ce_type.split(".")[2]


def message_name(ce_type: str) -> str:
    """A component name for a CloudEvents type (AsyncAPI keys allow letters, digits, ``.-_``)."""
    return ce_type.removeprefix("cn.tongban.")


def _message(cls: type[Event], schemas: dict[str, Any]) -> dict[str, Any]:
    payload = cls.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    schemas.update(payload.pop("$defs", {}))
    schemas[cls.__name__] = payload
    doc = inspect.getdoc(cls) or cls.__name__
    return {
        "name": cls.ce_type(),
        "title": cls.__name__,
        "summary": doc.splitlines()[0],
        "description": doc,
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
        "payload": {"$ref": f"#/components/schemas/{cls.__name__}"},
        "bindings": {"kafka": {"key": {"type": "string", "description": "The event's subject (aggregate id)."}}},
        "x-tongban-version": cls.version,
        "x-tongban-publisher": publisher_of(cls.ce_type()),
    }


def build(
    localities: LocalityRegistry,
    consumers: Mapping[str, Collection[str]],
    *,
    version: str = "0.1.0",
    partitions: int = 3,
    replicas: int = 1,
) -> dict[str, Any]:
    """The document for ``localities``; ``consumers`` maps a service to the types it handles (``*``: all)."""
    schemas: dict[str, Any] = {"CloudEventHeaders": CLOUDEVENTS_HEADERS, "DeadLetterHeaders": DEAD_LETTER_HEADERS}
    types = sorted(t for t, cls in EVENT_TYPES.items() if cls.__module__.startswith("shared.contracts"))
    messages = {message_name(t): _message(EVENT_TYPES[t], schemas) for t in types}
    messages["dead-letter"] = {
        "name": "dead-letter", "title": "Dead letter", "summary": "A record that could not be read, kept as it was.",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"description": "The original record value, unchanged (it may not be JSON)."},
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    publishers = sorted({publisher_of(t) for t in types})
    for locality in localities:
        code = locality.code
        channel_messages = {message_name(t): {"$ref": f"#/components/messages/{message_name(t)}"} for t in types}
        channels[f"locality-{code}"] = {
            "address": localities.topic(code),
            "title": f"{locality.name_en} ({locality.name_zh})",
            "description": f"Every event that concerns {locality.name_en}: its cases, its waybills, its "
            "agreements, and the region's catalogue. Keyed by the aggregate's id, so one aggregate's events keep "
            "their order within a partition.",
            "messages": channel_messages,
            "bindings": {"kafka": {"topic": localities.topic(code), "partitions": partitions, "replicas": replicas}},
        }
        channels[f"locality-{code}-dlt"] = {
            "address": localities.dead_letter_topic(code),
            "title": f"Dead letters of {locality.name_en}",
            "messages": {"dead-letter": {"$ref": "#/components/messages/dead-letter"}},
            "bindings": {"kafka": {"topic": localities.dead_letter_topic(code), "partitions": partitions,
                                   "replicas": replicas}},
        }
        for service in publishers:
            sent = [t for t in types if publisher_of(t) == service]
            operations[f"{service}-sends-to-{code}"] = {
                "action": "send", "channel": {"$ref": f"#/channels/locality-{code}"},
                "summary": f"The {service} service publishes its events to {localities.topic(code)}.",
                "messages": [{"$ref": f"#/channels/locality-{code}/messages/{message_name(t)}"} for t in sent],
            }
        for service, handled in sorted(consumers.items()):
            read = types if "*" in handled else [t for t in types if t in handled]
            if not read:
                continue
            operations[f"{service}-receives-from-{code}"] = {
                "action": "receive", "channel": {"$ref": f"#/channels/locality-{code}"},
                "summary": f"The {service} service reads {localities.topic(code)} as consumer group tongban-{service}.",
                "messages": [{"$ref": f"#/channels/locality-{code}/messages/{message_name(t)}"} for t in read],
                "bindings": {"kafka": {"groupId": {"type": "string", "const": f"tongban-{service}"}}},
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Tongban events",
            "version": version,
            "description": "The CloudEvents that Tongban's services exchange over Apache Kafka, one topic per "
            "locality. A locality's own systems read their locality's topic (see docs/kafka-consumers.md).",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {"host": "{bootstrap}", "protocol": "kafka", "description": "The deployment's Kafka brokers.",
                      "variables": {"bootstrap": {"default": "127.0.0.1:9092"}}},
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
