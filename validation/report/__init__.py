"""The validation report of a candidate sample against a reference: its construction
(:mod:`.build`: ``build_report``, ``build_report_dict``), JSON schema, verdict, physics
observables, reference matching, file tables, labels and plots, and the checkpoint-selection
scores training computes on its validation split."""
