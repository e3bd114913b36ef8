"""An edge export's report with known values, for the dashboard and run-summary tests: the
float16 model written, the int8 model refused by its gate on the rain slice (which it would
pass against the SavedModel as served: the gate's reference is the float32 network)."""
from components.edge import scoring
from components.edge.report import EdgeModel, EdgeReport, Latency, SliceAccuracy

FLOAT = {'overall': (200, 0.900), 'image/class/label=0': (100, 0.90),
         'scenario/weather=rain': (60, 0.850), 'scenario/weather=sun': (140, 0.921),
         'scenario/weather=fog': (10, 0.800)}
SERVED = {'overall': 0.905, 'image/class/label=0': 0.91, 'scenario/weather=rain': 0.8667,
          'scenario/weather=sun': 0.921, 'scenario/weather=fog': 0.800}  # bfloat16
FLOAT16 = {'overall': 0.900, 'image/class/label=0': 0.90, 'scenario/weather=rain': 0.850,
           'scenario/weather=sun': 0.921, 'scenario/weather=fog': 0.800}
INT8 = {'overall': 0.895, 'image/class/label=0': 0.85, 'scenario/weather=rain': 0.8167,
        'scenario/weather=sun': 0.929, 'scenario/weather=fog': 0.700}
MAX_DROP = 0.01
MIN_SLICE_SIZE = 30


def _slices(accuracy):
  return {name: SliceAccuracy(FLOAT[name][0], value, FLOAT[name][1], SERVED[name])
          for name, value in accuracy.items()}


def sample_report() -> EdgeReport:
  int8_slices = _slices(INT8)
  reasons = scoring.gate_failures(int8_slices, max_drop=MAX_DROP, min_slice_size=MIN_SLICE_SIZE)
  return EdgeReport(
      models={
          'float16': EdgeModel('float16', 'tflite/model_float16.tflite', True, 2_214_592,
                               _slices(FLOAT16), 1.0, Latency(4.25, 4.75, 1, 30)),
          'int8': EdgeModel('int8', 'tflite/model_int8.tflite', False, 1_321_672, int8_slices,
                            0.97, Latency(1.5, 1.75, 1, 30), reasons)},
      input_shape=(1, 32, 32, 3), recipe='signs', representative_examples=200,
      eval_examples=200, max_drop=MAX_DROP, min_slice_size=MIN_SLICE_SIZE,
      saved_model_bytes=7_000_000, float_latency=Latency(12.5, 15.0, 2, 30),
      served_policy='mixed_bfloat16')
