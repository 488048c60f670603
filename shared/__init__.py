"""Common code of every Tongban service: settings, localities, events, bus, outbox, errors."""
