"""One module per dataset format. Each registers its loader and card with
:func:`fer_bench.datasets.entry.register_dataset`; the dataset registry imports every
module here on its first look-up, so a new adapter is one new file in this folder
(formats: docs/datasets.md)."""
