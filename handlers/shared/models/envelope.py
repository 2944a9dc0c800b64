"""The envelope EventBridge wraps around every event it delivers to a target, on Powertools' model.

Its own module, for the consumers of delivered events (``notify``, ``audit``) only: building the model
costs cold-start time the producers of events need not pay.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AwareDatetime, ConfigDict


class BusEvent(EventBridgeModel):
    """An event as EventBridge delivers it to a target, immutable.

    ``detail`` stays a plain object here, for a consumer that parses it per detail-type; a consumer that
    reads one shape from every event subclasses this with a typed ``detail``.
    """

    model_config = ConfigDict(frozen=True)

    time: AwareDatetime
    """EventBridge sends UTC with a literal Z; a time without a zone could not be placed, so it is refused."""
