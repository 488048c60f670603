"""The test bed: what the tests (``tests/``) and the benchmarks (``bench/``) both start and drive.

Not used by the running services. ``infra`` starts a single-node Kafka (``deploy/kafka/kafka.sh``), a
PostgreSQL cluster (``deploy/postgres/postgres.sh``) and SeaweedFS (``deploy/seaweedfs/seaweedfs.sh``)
on loopback ports; ``processes`` runs a service as its own process; ``system`` launches a whole
system (:class:`~tongban.testbed.system.System`); ``keys`` writes each service's key files;
``kafka_io`` reads topics; ``agreements`` activates a cooperation agreement; ``world``, ``load`` and
``records`` are the fault suite's world (the item, cases, bad records) that the soak run reuses;
``patience`` stretches every wait by ``TONGBAN_TEST_PATIENCE``. It needs a checkout of the repository
(the ``deploy/`` scripts), never an installed package alone.
"""
