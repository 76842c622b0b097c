"""Reports layer: "as of" tables per snapshot, the public interface for analysts and BI tools."""
