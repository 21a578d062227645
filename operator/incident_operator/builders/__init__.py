"""Pure functions that turn Kubernetes objects into platform requests and platform answers
into Kubernetes objects and status patches, one module per kind (:mod:`.alert`,
:mod:`.incident`, :mod:`.oncallschedule`, :mod:`.escalationpolicy`, :mod:`.silence`), with
what several kinds share in :mod:`.status` (conditions, timestamps, merge patches) and
:mod:`.oncall` (the two on-call kinds). No I/O here: everything is unit-tested and every
object built is validated against the CRD schemas in the tests.
"""
