#include "tap.h"
int main(void){plan_skip_all("not written yet");}
