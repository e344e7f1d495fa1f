"""KServe's ``ModelServer`` with a model class calling the artefact: the peers benchmark's KServe
(:mod:`benchmarks.peers`). Needs the ``kserve`` package, which is not a dependency.

    python -m benchmarks.kserve_app --model-dir DIR --name showers --http-port 8080

The model answers an Open Inference Protocol request with inputs ``noise`` (N, Z) and, for a
conditional model, ``conditions`` (N, C) by ``artefact.sampler.generate_from_noise``: what our
``/v2`` computes for given noise. Output ``events`` (N, F) FP32, as binary tensor data when
asked.
"""

from __future__ import annotations

import argparse
import uuid

import kserve.protocol.rest.server as rest
import numpy as np
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer

from hepgan.models.artefact import load_artefact
from tests.support.ports import LOOPBACK

_bind_all = rest.RESTServer.__init__


def _bind_loopback(self, *args, **kwargs) -> None:
    """KServe's REST server binds 0.0.0.0 with no option: the benchmark stays on loopback."""
    _bind_all(self, *args, **kwargs)
    self.config.host = LOOPBACK


rest.RESTServer.__init__ = _bind_loopback


class HepganModel(Model):
    """One artefact behind KServe's data plane."""

    def __init__(self, name: str, folder: str) -> None:
        super().__init__(name)
        self.artefact = load_artefact(folder)
        self.ready = True

    def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        noise = payload.get_input_by_name("noise").as_numpy()
        conditions = payload.get_input_by_name("conditions")
        given = None if conditions is None else conditions.as_numpy().astype(np.float64)
        events = self.artefact.sampler.generate_from_noise(noise, given)
        output = InferOutput(name="events", shape=list(events.shape), datatype="FP32")
        output.set_data_from_numpy(events, binary_data=True)
        return InferResponse(
            model_name=self.name,
            infer_outputs=[output],
            response_id=payload.id or str(uuid.uuid4()),  # KServe wants a string
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--http-port", type=int, required=True)
    args = parser.parse_args()
    server = ModelServer(http_port=args.http_port, enable_grpc=False, workers=1)
    server.start([HepganModel(args.name, args.model_dir)])


if __name__ == "__main__":
    main()
