"""Accuracy of Keras models and their TFLite variants on one held-out set, and the report of it."""

from fer_edge.evaluation.data import EvalData, load_eval_data, parse_label_map
from fer_edge.evaluation.evaluate import Evaluation, evaluate_models
from fer_edge.evaluation.report import write_report

__all__ = ["EvalData", "Evaluation", "evaluate_models", "load_eval_data", "parse_label_map", "write_report"]
