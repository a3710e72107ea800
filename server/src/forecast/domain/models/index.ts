// Importing this registers every forecast model (each module registers itself).
import './persistence.js';
import './similar-day.js';
import './standard-profile.js';
import './pv-physical.js';
import './regression.js';
import './heat-demand.js';
