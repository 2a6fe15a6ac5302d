from fer_bench.datasets.base import Dataset, DatasetError
from fer_bench.datasets.entry import register_dataset
from fer_bench.datasets.registry import dataset_names, load_dataset

__all__ = ["Dataset", "DatasetError", "dataset_names", "load_dataset", "register_dataset"]
