"""Empty layers and one-hit layers of a shower model against a simulated file, and where the
generated empties come from (docs/quality.md, "The layer decides, not its voxels").

    python scripts/layer_hits.py --model DIR --reference FILE.root [-n 20000] [--seed 3]
        [--layers 7,8,9] [--layer-rule on|off|card]

For ``n`` showers at the energies of the reference file's first ``n`` showers: per layer, the
simulated fractions of empty layers and of layers with one hit voxel (above the model's
readout threshold); the generator's own decisions before the inverse (the layer decision
empty; all the layer's voxel decisions empty); the generated showers' fractions; and the KS
distance of the layer's energy. ``--layer-rule`` turns the generator's layer rule
(``GanConfig.hit_layer_size``) on or off for this run whatever the card says (``card``: as
trained), so one set of weights can be compared with and without it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from scipy.stats import ks_2samp

from hepgan.datafiles.datasets import read_table
from hepgan.models.artefact import load_artefact
from hepgan.models.transforms.hit_mask import gated_columns
from hepgan.models.transforms.stages import hit_layer_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--reference", type=Path, required=True, help="simulated shower file")
    parser.add_argument("-n", type=int, default=20_000, help="showers compared")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--layers", default="7,8,9")
    parser.add_argument("--layer-rule", choices=("on", "off", "card"), default="card")
    args = parser.parse_args()
    artefact = load_artefact(args.model)
    sampler = artefact.sampler
    generator = sampler.generator.eval()
    steps = sampler.feature_transform.steps
    if args.layer_rule != "card":
        generator.config.hit_layer_size = hit_layer_size(steps) if args.layer_rule == "on" else 0
    table = read_table(args.reference, branches=["voxels", "incident_energy"], progress=False)
    energies = np.asarray(table["incident_energy"], dtype=np.float64)[: args.n, None]  # (N, 1)
    geometry = artefact.card.geometry
    n_layers = geometry["n_layers"]
    size = geometry["n_angles"] * (len(geometry["radial_edges_mm"]) - 1)  # voxels per layer
    threshold = geometry["readout_threshold_mev"]
    simulated = np.asarray(table["voxels"])[: args.n].reshape(-1, n_layers, size)
    simulated = np.where(simulated > threshold, simulated, 0.0)
    with torch.inference_mode():
        noise = torch.randn(len(energies), generator.config.latent_dim)
        conditions = torch.from_numpy(sampler.condition_transform.forward(energies)).float()
        decisions = generator(noise, conditions).numpy()[:, gated_columns(steps)[1]]
    n_voxels = n_layers * size
    voxel_decisions = decisions[:, :n_voxels].reshape(-1, n_layers, size)  # (N, L, P)
    layer_decisions = decisions[:, n_voxels : n_voxels + n_layers]  # (N, L)
    generated = artefact.generate(len(energies), conditions=energies, seed=args.seed)
    generated = generated.reshape(-1, n_layers, size)
    print(f"{args.model} (layer rule: {args.layer_rule}), {len(energies)} showers")
    for layer in (int(text) for text in args.layers.split(",")):
        hits_simulated = (simulated[:, layer] > 0).sum(axis=1)
        hits_generated = (generated[:, layer] > 0).sum(axis=1)
        ks = ks_2samp(generated[:, layer].sum(axis=1), simulated[:, layer].sum(axis=1))
        print(
            f"layer {layer}: simulated empty {np.mean(hits_simulated == 0):.1%}, one hit "
            f"{np.mean(hits_simulated == 1):.1%}; layer decision empty "
            f"{np.mean(layer_decisions[:, layer] == 0):.1%}, all voxel decisions empty "
            f"{np.mean(voxel_decisions[:, layer].sum(axis=1) == 0):.1%}; generated empty "
            f"{np.mean(hits_generated == 0):.1%}, one hit {np.mean(hits_generated == 1):.1%}; "
            f"KS of the layer energy {ks.statistic:.3f}"
        )


if __name__ == "__main__":
    main()
