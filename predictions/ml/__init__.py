"""Model families: anomaly, forecasting, segmentation, failure. Each is one module with a class
that has `train`, `predict`, `save`, `load` and a `FORMAT_VERSION`; artifacts go through
`predictions.ml.artifacts` so a half-written or incompatible file is never used."""
