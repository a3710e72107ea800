// Importing a kind registers it.
import './modbus-sunspec.js';
import './modbus-registers.js';
import './modbus-rtu.js';
import './csv-files.js';
import './http-json.js';
import './sql.js';
