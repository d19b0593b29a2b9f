"""A fleet: ``credaudit serve`` (a background scan loop serving its latest snapshot as
Prometheus metrics) and ``credaudit fleet`` (many hosts' reports, or a Prometheus server, seen
together: expiry clusters, clock skew, silent hosts).

- ``loop``: the scan loop and the immutable ``Snapshot`` it publishes.
- ``collector``: a prometheus-client Collector over the latest snapshot.
- ``server``: the HTTP(S) listener (``/metrics``, ``/healthz``) that holds many scrapers.
- ``hosts``, ``promapi``: hosts' summaries from JSON reports or from Prometheus' HTTP API.
- ``analysis``: the CA95x rules over those summaries; ``histogram``: the picture.
"""
