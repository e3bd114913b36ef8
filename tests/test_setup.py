"""The set-up contract: Python 3.10 discovery, no needless reinstall, one Keras."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_without_python310_setup_fails_with_one_line(tmp_path):
  result = subprocess.run(
      [os.path.join(ROOT, '.ci', 'find_python310')], capture_output=True, text=True,
      env={'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)}, check=False)
  if os.path.exists('/usr/bin/python3.10') or os.path.exists('/usr/local/bin/python3.10'):
    assert result.returncode == 0  # a system-wide 3.10 is found even then
    return
  assert result.returncode == 1
  assert result.stdout == ''
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1
  assert lines[0].startswith('error: no Python 3.10 found') and 'install' in lines[0]


def test_python310_is_found_here():
  result = subprocess.run([os.path.join(ROOT, '.ci', 'find_python310')], capture_output=True,
                          text=True, check=True)
  version = subprocess.run([result.stdout.strip(), '--version'], capture_output=True,
                           text=True, check=True)
  assert version.stdout.startswith('Python 3.10.')


def test_installed_environment_is_up_to_date_with_the_lock():
  """`make -q` exits 0 when the stamp is newer than the lock: nothing would reinstall."""
  result = subprocess.run(['make', '-q', '.venv/.installed'], cwd=ROOT, check=False)
  assert result.returncode == 0


def test_tensorflow_uses_keras_2():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tf_keras  # pylint: disable=g-import-not-at-top
  assert os.environ['TF_USE_LEGACY_KERAS'] == '1'
  assert tf.keras.Model is tf_keras.Model
