"""The estate and its readings: sites, hostels, rooms, meters, readings, weather, occupancy, rollups.

`models/`, `querysets` and `scoping` (who sees which hostels: `scope_for`, beside `Hostel`),
`services` (every write, reading ingestion included; its machinery is `ingest/`), `selectors/`,
`api/`, `views`, `tasks`, `admin`, `tests`; gateway keys are `authentication` and `throttling`;
`simulation/` is the one campus generator, for the product, the tests and the benches.
"""
