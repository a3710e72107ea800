// Importing a decoder module registers it; this list is every protocol Gridshare reads, in the
// order `--format auto` tries them.
import './dsmr.js';
import './smarty.js';
import './dlms.js';
import './sml.js';
import './mbus.js';
import './d0.js';
