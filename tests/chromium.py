"""Headless Chromium driven over the DevTools protocol (websocket-client), for tests that open
the dashboard: console errors and exceptions, script evaluation, clicks, full-page screenshots.

Also a command: `python tests/chromium.py PAGE.html SHOT.png [WIDTH]` saves a
full-page screenshot of PAGE.html (used for docs/dashboard.png).
"""
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

import websocket

ENSURE_CHROMIUM = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '.ci',
                               'ensure_chromium')


class BrowserError(RuntimeError):
  """Chromium did not start, or a DevTools command failed."""


def find_chromium() -> Optional[str]:
  return shutil.which('chromium') or shutil.which('chromium-browser')


def ensure_chromium() -> Tuple[Optional[str], str]:
  """(the chromium binary, '') after .ci/ensure_chromium installed it where it could; (None,
  why not) where it could not."""
  reason = ''
  if find_chromium() is None:
    try:
      reason = subprocess.run([ENSURE_CHROMIUM], check=False, capture_output=True,
                              text=True).stderr.strip()
    except OSError as error:
      reason = f'could not run {ENSURE_CHROMIUM}: {error}'
  binary = find_chromium()
  return binary, '' if binary else (reason or 'no chromium on PATH after .ci/ensure_chromium')


class Browser:
  """One headless Chromium with one page. Use as a context manager: the browser is killed and
  its profile removed on exit, whatever happened."""

  def __init__(self, binary: str, *, width: int = 1280, height: int = 900,
               timeout_s: float = 20.0):
    self._timeout_s = timeout_s
    self._profile = tempfile.mkdtemp(prefix='chromium-profile-')
    self._log = open(os.path.join(self._profile, 'stderr.log'), 'wb')
    self._process = subprocess.Popen(
        [binary, '--headless=new', '--remote-debugging-port=0',
         f'--user-data-dir={self._profile}', '--no-sandbox', '--disable-gpu',
         '--no-first-run', '--no-default-browser-check', '--disable-extensions',
         '--disable-background-networking', '--disable-sync', '--disable-component-update',
         '--hide-scrollbars', '--mute-audio', f'--window-size={width},{height}',
         'about:blank'], stdout=self._log, stderr=self._log,
        start_new_session=True)  # its own process group: close() ends its helpers too
    self._ids = itertools.count(1)
    self.events: List[Dict[str, Any]] = []
    self._socket = None
    try:
      self._socket = websocket.create_connection(
          self._page_socket_url(), timeout=timeout_s, suppress_origin=True)
      for domain in ('Page', 'Runtime', 'Log', 'Network'):
        self.send(f'{domain}.enable')
    except Exception:
      self.close()
      raise

  def _page_socket_url(self) -> str:
    port_file = os.path.join(self._profile, 'DevToolsActivePort')
    deadline = time.monotonic() + self._timeout_s
    while not os.path.exists(port_file) or not open(port_file).read().strip():
      if self._process.poll() is not None or time.monotonic() > deadline:
        with open(self._log.name, 'rb') as log:
          raise BrowserError(f'Chromium did not open its DevTools port: '
                             f'{log.read().decode(errors="replace")[-2000:]}')
      time.sleep(0.05)
    port = int(open(port_file).read().split()[0])
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list', timeout=10) as reply:
      targets = json.load(reply)
    return next(t['webSocketDebuggerUrl'] for t in targets if t['type'] == 'page')

  def send(self, method: str, **params) -> Dict[str, Any]:
    """Runs one DevTools command and returns its result; events read meanwhile are kept."""
    command_id = next(self._ids)
    self._socket.send(json.dumps({'id': command_id, 'method': method, 'params': params}))
    while True:
      message = json.loads(self._socket.recv())
      if message.get('id') == command_id:
        if 'error' in message:
          raise BrowserError(f'{method}: {message["error"]}')
        return message.get('result', {})
      self.events.append(message)

  def wait_for_event(self, method: str) -> Dict[str, Any]:
    """The first event `method` not yet waited for, reading more as needed."""
    deadline = time.monotonic() + self._timeout_s
    while True:
      for i, event in enumerate(self.events):
        if event.get('method') == method:
          return self.events.pop(i)
      if time.monotonic() > deadline:
        raise BrowserError(f'No {method} within {self._timeout_s} s')
      self.events.append(json.loads(self._socket.recv()))

  def open(self, path: str) -> None:
    """Loads the local file `path` and waits for its load event."""
    self.send('Page.navigate', url='file://' + os.path.abspath(path))
    self.wait_for_event('Page.loadEventFired')

  def evaluate(self, expression: str) -> Any:
    """The value of a JavaScript expression in the page (JSON-able values)."""
    result = self.send('Runtime.evaluate', expression=expression, returnByValue=True,
                       awaitPromise=True)
    if 'exceptionDetails' in result:
      raise BrowserError(f'{expression!r} threw: {result["exceptionDetails"]}')
    return result['result'].get('value')

  def errors(self) -> List[str]:
    """Uncaught exceptions, console.error calls and error log entries seen so far."""
    found = []
    for event in self.events:
      method, params = event.get('method'), event.get('params', {})
      if method == 'Runtime.exceptionThrown':
        found.append(json.dumps(params['exceptionDetails']))
      elif method == 'Runtime.consoleAPICalled' and params['type'] in ('error', 'assert'):
        found.append(json.dumps(params['args']))
      elif method == 'Log.entryAdded' and params['entry']['level'] == 'error':
        found.append(json.dumps(params['entry']))
    return found

  def requested_urls(self) -> List[str]:
    """Every URL the page requested."""
    return [e['params']['request']['url'] for e in self.events
            if e.get('method') == 'Network.requestWillBeSent']

  def screenshot(self, path: str) -> str:
    """Saves the whole page, beyond the window, as PNG at `path`; returns `path`."""
    size = self.send('Page.getLayoutMetrics')['cssContentSize']
    shot = self.send('Page.captureScreenshot', format='png', captureBeyondViewport=True,
                     clip={'x': 0, 'y': 0, 'width': size['width'], 'height': size['height'],
                           'scale': 1})
    with open(path, 'wb') as f:
      f.write(base64.b64decode(shot['data']))
    return path

  def close(self) -> None:
    if self._socket is not None:
      self._socket.close()
    try:
      os.killpg(self._process.pid, signal.SIGKILL)
    except ProcessLookupError:
      pass
    self._process.wait(timeout=10)
    self._log.close()
    shutil.rmtree(self._profile, ignore_errors=True)

  def __enter__(self) -> 'Browser':
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()


def main(argv: List[str]) -> int:
  if len(argv) not in (2, 3):
    print(__doc__, file=sys.stderr)
    return 2
  binary, reason = ensure_chromium()
  if binary is None:
    print(reason, file=sys.stderr)
    return 1
  with Browser(binary, width=int(argv[2]) if len(argv) == 3 else 1280) as browser:
    browser.open(argv[0])
    print(browser.screenshot(argv[1]))
    for error in browser.errors():
      print(f'page error: {error}', file=sys.stderr)
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
