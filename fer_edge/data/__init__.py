"""Datasets in memory (``FerDataset``) and the three on-disk forms FER-2013 comes in."""

from fer_edge.data.dataset import IMAGE_SIZE, FerDataset
from fer_edge.data.forms import SYNTHETIC, Form, detect_form, load_dataset, save_dataset

__all__ = ["SYNTHETIC", "IMAGE_SIZE", "FerDataset", "Form", "detect_form", "load_dataset", "save_dataset"]
