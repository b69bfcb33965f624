"""What runs produce: records, metrics over them, per-example outcomes and generations, paired statistics."""
