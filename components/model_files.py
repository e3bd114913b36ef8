"""Files the Trainer writes into its Model artifact beside Format-Serving, read by later steps.

  network.json     {model_name, width_multiplier, image_size, class_names}: what a warm start
                   must match (components/trainer/warm_start.py)
  warm_start.json  {warm_started_from: the parent Model artifact's URI or null, base_model,
                   reason (why not, or null), train_steps}: read into the model card
"""
NETWORK_FILE = 'network.json'
WARM_START_FILE = 'warm_start.json'
