"""The lists program staff act on, one module per mart, each writing `marts.<name>` from the
families layer with its rules from configs/marts.yaml and its evidence (records, systems,
dates) on every row."""
