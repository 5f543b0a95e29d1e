import sys, os
from typing import Dict,List
def   greet( name:str,times :int=1 )->List[str] :
  out=[ ]
  for i in range( times ):
      out.append( 'Hello, %s! (%d)'%( name,i ) )
  return out
class  Config( object ) :
  defaults={ 'colour':"blue",'size':3,
    'tags':[ 'a','b' ] }
  def get(self,key) :
    if key in self.defaults : return self.defaults[key]
    else: return None
if __name__=='__main__' :
  print( '\n'.join( greet( sys.argv[1] if len(sys.argv)>1 else "world",2 ) ) )
