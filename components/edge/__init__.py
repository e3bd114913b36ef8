"""The edge export: a blessed model as TFLite float16 and int8, evaluated like the float model.

`component.EdgeExport` is the pipeline step (after the RegistryPusher, for pushed models only);
`export.export_edge_models` does the work: `converter` (the SavedModel rebuilt on uint8
pixels, and its conversions), `pixels` (examples as the edge models take them), `interpreter`
(TFLite, batched and timed), `scoring` (the Evaluator's slices, the int8 gate) and `report`
(what the card's `edge` section and the dashboard show). `python -m components.edge classify`
classifies image files with a converted model.
"""
