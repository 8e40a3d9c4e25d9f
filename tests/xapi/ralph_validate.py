"""Validate xAPI statements (NDJSON on stdin) with ralph's models; run by .venv-ralph's Python.

Every statement must be a valid xAPI 1.0.3 statement by ralph's ``BaseXapiStatement`` (its
actor, verb, object, result and context models, extra fields forbidden where the spec
forbids them). Where ralph models the verb or the activity type we use (ADL's answered, the
SCORM profile's completed and course, and ralph's interaction definition for
cmi.interaction), the statement's part must validate against that model
too. Prints one JSON line per statement: {"id", "ok", "errors"}.
"""

import json
import sys

from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement
from ralph.models.xapi.base.unnested_objects import BaseXapiActivityInteractionDefinition
from ralph.models.xapi.concepts.activity_types.scorm_profile import (
    CMIInteractionActivityDefinition,
    CourseActivityDefinition,
)
from ralph.models.xapi.concepts.verbs.adl_vocabulary import AnsweredVerb
from ralph.models.xapi.concepts.verbs.scorm_profile import CompletedVerb

VERBS = {AnsweredVerb.model_fields["id"].default: AnsweredVerb}
VERBS[CompletedVerb.model_fields["id"].default] = CompletedVerb
# ralph's cmi.interaction definition model has no interaction fields (extra ones are
# forbidden), so an interaction's definition is checked by its interaction model instead.
TYPES = {
    CMIInteractionActivityDefinition.model_fields["type"].default: (
        BaseXapiActivityInteractionDefinition
    ),
    CourseActivityDefinition.model_fields["type"].default: CourseActivityDefinition,
}

for line in sys.stdin:
    if not line.strip():
        continue
    statement = json.loads(line)
    errors = []
    try:
        BaseXapiStatement.model_validate(statement)
        verb = VERBS.get(statement["verb"]["id"])
        if verb is not None:
            verb.model_validate(statement["verb"])
        definition = statement["object"].get("definition", {})
        model = TYPES.get(definition.get("type"))
        if model is not None:
            model.model_validate(definition)
    except ValidationError as error:
        errors = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
    print(json.dumps({"id": statement.get("id"), "ok": not errors, "errors": errors}))
