"""moto's server as the local cloud runs it: `python -c <this> <moto_server args>`.

Two changes to how moto runs, none to what it answers:

- werkzeug's line per request is off. Under a burst of pushes, writing those
  lines was a tenth of the DynamoDB moto's time (py-spy); the lines moto
  prints at start, the port among them, stay.
- Each Step Functions execution parses the state machine's ASL again (moto's
  ExecutionWorker calls the ANTLR parser per execution: 156 ms for
  deploy.asl.json, under the GIL, so 500 executions queue for 78 s). The
  parsed program is kept per definition and each execution gets a deep copy
  (7 ms): components keep per-execution state (a Choice its next state), so
  executions must not share one.
"""

import copy
import sys
import threading

from werkzeug.serving import WSGIRequestHandler

WSGIRequestHandler.log_request = lambda *args, **kwargs: None

from moto.stepfunctions.parser.backend import execution_worker  # noqa: E402

_parse = execution_worker.AmazonStateLanguageParser.parse
_programs = {}
_lock = threading.Lock()


def _evaluation_entrypoint(self):
    definition = self._evaluation_details.state_machine_details.definition
    with _lock:
        program = _programs.get(definition)
        if program is None:
            program = _programs[definition] = _parse(definition)[0]
    return copy.deepcopy(program)


execution_worker.ExecutionWorker._get_evaluation_entrypoint = _evaluation_entrypoint

from moto.server import main  # noqa: E402

main(sys.argv[1:])
