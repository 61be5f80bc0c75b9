-- One database per service: no service reads another's tables.
CREATE DATABASE crm_foundation;
CREATE DATABASE crm_service_management;
CREATE DATABASE crm_analytics_monitoring;
