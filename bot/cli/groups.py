"""The working groups: applications by group and sector, their export, staff's exclusions."""
