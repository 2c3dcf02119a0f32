-- Dagster keeps its run and event storage in a database of its own.
CREATE DATABASE azak_dagster;
