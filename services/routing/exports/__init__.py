"""Case exports in the field set that provincial platforms exchange (issue 17): the codes as data
(``services/routing/data/exchange-codes.json``), the pure row builder (``rows``), the queries (``store``)
and the service that pages a locality's cases (``service``). See docs/exports.md."""
