"""The command line of the benchmarks that take a finished run's pushed model
(bench/int8_calibration.py, bench/int8_sensitivity.py): its artifact folders and the edge
export's settings."""
import argparse


def parser(description: str) -> argparse.ArgumentParser:
  """An ArgumentParser with `description` and the pushed model's arguments."""
  found = argparse.ArgumentParser(description=description)
  found.add_argument('--registry_version', required=True,
                     help='The pushed registry version folder (its SavedModel is converted).')
  found.add_argument('--model', required=True, help='The Trainer Model artifact it came from.')
  found.add_argument('--examples', required=True, help='The ExampleGen Examples artifact.')
  found.add_argument('--evaluation', required=True, help='The Evaluator\'s evaluation.')
  found.add_argument('--recipe', default='signs')
  found.add_argument('--representative_examples', type=int, default=200)
  found.add_argument('--edge_max_drop', type=float, default=0.01)
  return found
