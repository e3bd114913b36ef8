"""What each pipeline step does: ExampleGen executors, Transform and Trainer code, evaluation."""
