"""The Beam runners a run on this machine can choose, and the options each one needs; the
pipeline's --beam_runner (pipeline/configs.py) and the standalone ingestion job's share them.

DirectRunner: every Beam step runs inside its own process, in memory, one worker.
PortableRunner: Beam's portability framework, as Dataflow (runner v2), Flink and Spark run it:
  the pipeline becomes a runner-API proto handed to a job service (here the embedded one), and
  every transform is pickled and shipped over gRPC to an SDK worker (here a LOOPBACK worker,
  started by the launching process). Pure Python and offline: it checks portability, not speed,
  since the embedded job service drives one SDK worker (Beam 2.59's FnApiRunner ignores
  --direct_num_workers there, and --sdk_worker_parallelism only sizes worker pools of a
  Flink or Spark job server). The LOOPBACK worker shares the launching process's memory; with
  PROCESS_WORKER_ARGS among the Beam args it runs in a process of its own (Beam starts `python`
  from PATH), out of reach of any state the launcher set up.
"""
from typing import Dict, Tuple

# Beam's defaults (in memory, one worker) as no options at all: given any Beam options, TFX's
# Beam steps build a throwaway sdist of TFX (about 49 MB, 2 s) per step and never delete it.
DIRECT_RUNNER_ARGS: Tuple[str, ...] = ()
PORTABLE_RUNNER_ARGS = ('--runner=PortableRunner', '--job_endpoint=embed',
                        '--environment_type=LOOPBACK')
PROCESS_WORKER_ARGS = ('--experiments=use_loopback_process_worker',)  # PortableRunner's worker
LOCAL_RUNNER_ARGS: Dict[str, Tuple[str, ...]] = {
    'DirectRunner': DIRECT_RUNNER_ARGS,
    'PortableRunner': PORTABLE_RUNNER_ARGS,
}
