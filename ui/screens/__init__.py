"""One Screen class + one .kv file per screen; `SCREENS` lists them in flow order."""

from ui.screens.apply import ApplyScreen
from ui.screens.attract import AttractScreen
from ui.screens.card import CardScreen
from ui.screens.consent import ConsentScreen
from ui.screens.feedback import FeedbackScreen
from ui.screens.jobs import JobsScreen
from ui.screens.posting import PostingScreen
from ui.screens.question import QuestionScreen
from ui.screens.receipt import ReceiptScreen
from ui.screens.results import ResultsScreen
from ui.screens.service import ServiceScreen
from ui.screens.status_report import StatusReportScreen
from ui.screens.technician import TechnicianScreen

SCREENS = (AttractScreen, CardScreen, ConsentScreen, QuestionScreen, ResultsScreen, ApplyScreen, ReceiptScreen,
           JobsScreen, PostingScreen, ServiceScreen, StatusReportScreen, FeedbackScreen, TechnicianScreen)
