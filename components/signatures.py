"""The exported model's signatures and output keys: the contract between the Trainer's export
(components/trainer/serving.py) and what reads a served model (the Evaluator, the
attention-map tools, the dashboard).

Every signature decodes images as ingestion does (components/pixel_rules.py: a JPEG's EXIF
orientation applied, a 16-bit PNG scaled to 8 bits) and answers InvalidArgumentError, before
decoding anything, for an input that is not a serialized tf.Example with the image feature
(SERVE_EXAMPLES), for image bytes that are neither JPEG nor PNG, and for an image over the
ingestion pixel limit by its header (image_codec.DEFAULT_MAX_PIXELS unless the export says
otherwise); the message names the input's index in the batch.
"""

SERVE_EXAMPLES = 'serving_default'  # input `examples`: string [batch], serialized tf.Examples
SERVE_IMAGES = 'serve_images'       # input `images`: string [batch], JPEG or PNG bytes
ATTENTION_MAPS = 'attention_maps'   # as SERVE_IMAGES, plus the maps and MODEL_INPUT

PROBABILITIES = 'probabilities'  # float32 [batch, classes]
CLASS_IDS = 'class_ids'          # int64 [batch]: the most probable class
CLASS_NAMES = 'class_names'      # string [batch]: its name
TOP_K_CLASS_IDS = 'top_k_class_ids'          # int32 [batch, k]: most probable first
TOP_K_PROBABILITIES = 'top_k_probabilities'  # float32 [batch, k]
TOP_K_CLASS_NAMES = 'top_k_class_names'      # string [batch, k]
MODEL_INPUT = 'model_input'  # uint8 [batch, image_size, image_size, 3]: the pixels the model saw
