"""The feature store: features of a frozen encoder on a dataset's rows, extracted once
(image loader -> sealed ``Encoder.embed``), cached under a content key, validated on
every load. Entry point: :class:`fer_bench.features.store.FeatureStore`."""
