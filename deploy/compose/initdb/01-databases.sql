-- One database per service (and one for the operators' dashboard), owned by the POSTGRES_USER (tongban) of the compose file.
-- Run once by the postgres image's entrypoint when the data volume is empty
-- (/docker-entrypoint-initdb.d); the services' tables come from their migrations.
CREATE DATABASE tongban_catalogue;
CREATE DATABASE tongban_routing;
CREATE DATABASE tongban_authorization;
CREATE DATABASE tongban_delivery;
CREATE DATABASE tongban_dashboard;
CREATE DATABASE tongban_webhooks;
