"""The benchmark harness of issue 8: ``python -m bench.run`` (or ``make bench``).

Plain scripts, not tests: it starts its own Kafka broker and PostgreSQL cluster, every service as
its own process, and measures each workload beside its raw baseline in the same run.
"""
