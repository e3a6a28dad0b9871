// Indexes the storage patterns (cypher/patterns/pvc_pending.cypher, pv_released_or_failed.cypher) start
// from. Applied with the rest of the schema by `kgrca db init`; every statement is idempotent.

// pvc_pending: the few claims that are Pending, without reading every claim
CREATE INDEX pvc_phase IF NOT EXISTS FOR (n:PersistentVolumeClaim) ON (n.phase);

// pv_released_or_failed: the few volumes Released or Failed, without reading every volume
CREATE INDEX pv_phase IF NOT EXISTS FOR (n:PersistentVolume) ON (n.phase);

// pvc_pending: the cluster's default StorageClass(es), a seek instead of reading every class
CREATE INDEX storage_class_default IF NOT EXISTS FOR (n:StorageClass) ON (n.is_default);

// pvc_resize_stuck: the few Bound claims that ask for more than they have (kg_builder/facts_storage.py)
CREATE INDEX pvc_resize_wanted IF NOT EXISTS FOR (n:PersistentVolumeClaim) ON (n.resize_wanted);
